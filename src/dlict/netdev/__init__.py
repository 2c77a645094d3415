"""Network devices over SSH (netmiko): configuration backup with history, and device rules."""
