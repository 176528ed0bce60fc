// Dutch for the modeler: bpmn-js and its properties panel pass their texts through a `translate`
// service, which this module replaces. Texts not listed stay English (mostly rare or technical).
(function () {
  "use strict";

  var TEXTS = {
    // palette
    "Activate hand tool": "Handgereedschap",
    "Activate lasso tool": "Lasso (elementen selecteren)",
    "Activate create/remove space tool": "Ruimte maken of weghalen",
    "Activate global connect tool": "Elementen verbinden",
    "Create start event": "Startgebeurtenis maken",
    "Create intermediate/boundary event": "Tussen- of randgebeurtenis maken",
    "Create end event": "Eindgebeurtenis maken",
    "Create gateway": "Gateway (keuze) maken",
    "Create task": "Taak maken",
    "Create data object reference": "Gegevensobject maken",
    "Create data store reference": "Gegevensopslag maken",
    "Create expanded sub-process": "Deelproces maken",
    "Create pool/participant": "Pool (deelnemer) maken",
    "Create group": "Groep maken",
    // context pad
    "Append end event": "Eindgebeurtenis toevoegen",
    "Append gateway": "Gateway toevoegen",
    "Append task": "Taak toevoegen",
    "Append intermediate/boundary event": "Tussengebeurtenis toevoegen",
    "Append timer intermediate catch event": "Timer toevoegen",
    "Append message intermediate catch event": "Berichtgebeurtenis toevoegen",
    "Append receive task": "Ontvangsttaak toevoegen",
    "Add text annotation": "Notitie toevoegen",
    "Add lane above": "Lane erboven toevoegen",
    "Add lane below": "Lane eronder toevoegen",
    "Change element": "Element wijzigen",
    "Connect to other element": "Met ander element verbinden",
    "Connect using association": "Verbinden met associatie",
    "Delete": "Verwijderen",
    "Search in diagram": "Zoeken in diagram",
    "Align elements": "Elementen uitlijnen",
    // element kinds (properties panel header)
    "User Task": "Gebruikerstaak",
    "Manual Task": "Handmatige taak",
    "Service Task": "Servicetaak",
    "Script Task": "Scripttaak",
    "Task": "Taak",
    "Start Event": "Startgebeurtenis",
    "End Event": "Eindgebeurtenis",
    "Exclusive Gateway": "Exclusieve gateway",
    "Parallel Gateway": "Parallelle gateway",
    "Timer Boundary Event": "Timer op de rand",
    "Timer Intermediate Catch Event": "Timer (tussengebeurtenis)",
    "Sequence Flow": "Volgpijl",
    "Process": "Proces",
    "Participant": "Deelnemer (pool)",
    "Lane": "Lane",
    "Call Activity": "Aanroep van proces",
    "Sub Process": "Deelproces",
    // properties panel: groups
    "General": "Algemeen",
    "Documentation": "Documentatie",
    "User assignment": "Toewijzing",
    "Forms": "Formulier",
    "Form": "Formulier",
    "Extension properties": "Extra eigenschappen",
    "Asynchronous continuations": "Asynchroon verder",
    "Inputs": "Invoer",
    "Outputs": "Uitvoer",
    "Execution listeners": "Uitvoeringslisteners",
    "Task listeners": "Taaklisteners",
    "Timer": "Timer",
    "Condition": "Voorwaarde",
    "Details": "Details",
    // properties panel: fields
    "Name": "Naam",
    "ID": "ID",
    "Value": "Waarde",
    "Type": "Soort",
    "Element documentation": "Beschrijving van het element",
    "Process documentation": "Beschrijving van het proces",
    "Assignee": "Toegewezen aan",
    "Candidate groups": "Kandidaatgroepen (rollen)",
    "Candidate users": "Kandidaatgebruikers",
    "Due date": "Termijn (uiterlijk)",
    "Follow up date": "Opvolgdatum",
    "Priority": "Prioriteit",
    "Form key": "Formuliersleutel (formKey)",
    "Before": "Ervoor",
    "After": "Erna",
    "Executable": "Uitvoerbaar",
    "Process ID": "Proces-ID",
    "Process name": "Procesnaam",
    "Participant Name": "Naam deelnemer",
    "Create": "Toevoegen",
    "Expression": "Expressie",
    "Script": "Script",
    "Format": "Formaat",
    "Default flow": "Standaardpad",
    "<none>": "<geen>"
  };

  function translate(template, replacements) {
    var text = TEXTS[template] || template;
    return text.replace(/{([^}]+)}/g, function (_, key) {
      return replacements && replacements[key] !== undefined ? replacements[key] : "{" + key + "}";
    });
  }

  // A bpmn-js module: pass it in additionalModules to replace the built-in (English) translate.
  window.KetenregieBpmnDutch = { translate: ["value", translate] };
})();
