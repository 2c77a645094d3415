"""The test fleet: simulated district hosts (office + schools) for real Ansible over SSH.

See lab/README.md.
"""
