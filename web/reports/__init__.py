"""Reports over HTTP: the manager dashboard with its charts and exports, the printable
monthly report, and the consultations exports (FHIR, CSV, JSON).
"""
