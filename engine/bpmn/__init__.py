"""The pure SpiffWorkflow layer: parse, validate, sandbox, run and (de)serialize BPMN workflows.

Nothing in this package touches the database or Flask; engine/ modules above it own persistence.
"""
