"""The school agent: the checks that only work from inside a school, stored in a local durable
outbox and forwarded over thin links to the office's ``dlict intake`` (or remote_write).

Layout: ``records`` (what the agent sends) and ``wire`` (how a batch travels) are the contract
with ``dlict.intake``; ``config`` is the agent's YAML; ``jobs/`` produce results and samples;
``outbox`` keeps them through power cuts; ``forward`` sends them; ``enroll`` gets the agent its
certificate; ``service`` is ``dlict agent run|once|status``.
"""
