"""The office side of the school agents: the enrolment CA, the batch receiver that stores each
record exactly once, and the agents' state as metrics."""
