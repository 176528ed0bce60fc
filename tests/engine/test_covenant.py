"""The covenant file: parsed strictly, default deny, every version recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from api.extensions import db
from engine import covenant
from engine.errors import InvalidInputError

TEXT = (Path(__file__).parents[2] / "processes" / "convenant.yaml").read_text(encoding="utf-8")


def test_the_shipped_covenant_parses_and_denies_by_default():
    parsed = covenant.parse_covenant(TEXT)

    assert parsed.may_read("politie", "justitie") and not parsed.may_read("politie", "zorg")
    assert not parsed.may_read("corporatie", "zorg") and not parsed.may_write("ggz", "basisgegevens")
    assert not parsed.may_read("gemeente", "een_onbekende_categorie")
    assert not parsed.may_read("gemeente", None)
    assert parsed.special["zorg"] == "AVG art. 9" and parsed.special["justitie"] == "AVG art. 10"


def test_every_problem_in_a_covenant_is_reported():
    broken = TEXT.replace('grond: "Wpg art. 16 en 19; AVG art. 10"', 'grond: ""').replace(
        "  verhuisd: P1Y", "  verhuisd: een jaar").replace("  kwetsbaar: zorg", "  kwetsbaar: gezondheid")

    with pytest.raises(InvalidInputError) as caught:
        covenant.parse_covenant(broken + "\n")

    elements = {p.element for p in caught.value.problems}
    assert elements == {"toegang.politie.justitie", "bewaartermijnen.verhuisd", "velden.kwetsbaar"}


def test_an_unknown_organisation_kind_is_refused():
    with pytest.raises(InvalidInputError) as caught:
        covenant.parse_covenant(TEXT.replace("  ggz:\n", "  bakkerij:\n"))

    assert [p.element for p in caught.value.problems] == ["toegang.bakkerij"]


def test_loading_records_each_new_version_once_with_who_and_when(app, make_user):
    from engine.accounts import Actor

    admin = Actor.of(make_user("beheer", organisation="Gemeente Zoetermeer", kind="gemeente", roles=("admin",)))
    changed = TEXT.replace('versie: "2026.2"', 'versie: "2026.3"')

    same = covenant.load_covenant(db.session, text=TEXT, source="again")
    new = covenant.load_covenant(db.session, text=changed, source="api", actor=admin)
    db.session.commit()

    versions = db.session.scalars(select(covenant.CovenantVersion).order_by(covenant.CovenantVersion.id)).all()
    assert [v.version for v in versions] == ["2026.2", "2026.3"]
    assert same.id == versions[0].id and new.loaded_by_id == admin.user_id and new.loaded_at is not None
    assert covenant.current_covenant(db.session).version == "2026.3"


def test_disclose_leaves_out_and_names_what_may_not_be_read():
    parsed = covenant.parse_covenant(TEXT)

    seen = covenant.disclose(parsed, "politie", {"a": 1, "b": 2, "c": 3}, {"a": "justitie", "b": "zorg"})

    assert seen.values == {"a": 1}
    assert sorted(seen.shielded) == ["b", "c"]  # c has no category at all: shielded too


def test_the_field_dictionary_decides_over_a_category_recorded_earlier():
    # Data recorded while a form still filed the vulnerability signals under woongedrag.
    parsed = covenant.parse_covenant(TEXT)

    seen = covenant.disclose(parsed, "politie", {"kwetsbaar": "ja", "signalen": "Verward gedrag", "vraag": "?"},
                             {"kwetsbaar": "woongedrag", "signalen": "woongedrag", "vraag": "woongedrag"})

    assert seen.values == {"vraag": "?"} and sorted(seen.shielded) == ["kwetsbaar", "signalen"]


def test_an_empty_field_is_not_a_write_but_a_filled_one_is_checked():
    from engine.errors import PermissionDeniedError
    from engine.models import OrganisationKind

    parsed = covenant.parse_covenant(TEXT)
    categories = {"uitgevoerd_op": "procesgegevens", "actie_zorg": "zorg"}

    covenant.check_write(parsed, OrganisationKind.POLITIE, categories, values={"uitgevoerd_op": "2026-03-02",
                                                                              "actie_zorg": ""})
    with pytest.raises(PermissionDeniedError) as caught:
        covenant.check_write(parsed, OrganisationKind.POLITIE, categories,
                             values={"uitgevoerd_op": "2026-03-02", "actie_zorg": "In behandeling."})
    assert [p.element for p in caught.value.problems] == ["data.actie_zorg"]


def test_the_shipped_covenant_lets_the_reporting_corporation_write_but_not_read_vulnerability_signals():
    parsed = covenant.parse_covenant(TEXT)

    assert parsed.fields["kwetsbaar"] == parsed.fields["signalen"] == "zorg"
    assert parsed.may_write("corporatie", "zorg") and not parsed.may_read("corporatie", "zorg")
    assert not parsed.may_read("politie", "zorg") and not parsed.may_write("politie", "zorg")
    assert all(parsed.may_write(kind, "woongedrag") and parsed.may_write(kind, "procesgegevens")
               for kind in ("gemeente", "corporatie", "politie", "ggd", "ggz", "zorg"))
