"""Every metric dlict serves or writes, named once: the exporter's families, the network
device figures, the monitor's own figures and the ``logs check --metrics`` textfile.

The exposition writes these families and the reports query them by ``.name``, so a metric is
renamed here or nowhere. Standard library only: the log server's zipapp carries this module.
docs/metrics.md documents each one (a test holds it to that).
"""

from __future__ import annotations

from dlict.core.promtext import Family

BUILD_INFO = Family("dlict_build_info", "Always 1; the label version is dlict's version.")
SITE_INFO = Family("dlict_site_info", "Always 1; the site's names and amphoe, to join on "
                   "site (school code, or office).")

# ICMP links
LINK_UP = Family("dlict_link_up", "1 when at least one of the site's probe targets answered "
                  "in the last cycle.")
PROBE_UP = Family("dlict_probe_up", "1 when the target answered at least one echo in the "
                   "last cycle.")
PROBE_RTT = Family("dlict_probe_rtt_seconds", "Mean round-trip time of the answered echoes.")
PROBE_MIN = Family("dlict_probe_rtt_min_seconds", "Shortest round-trip time in the cycle.")
PROBE_MAX = Family("dlict_probe_rtt_max_seconds", "Longest round-trip time in the cycle.")
PROBE_JITTER = Family("dlict_probe_jitter_seconds", "Mean absolute difference of "
                       "consecutive round-trip times.")
PROBE_LOSS = Family("dlict_probe_loss_ratio", "Share of echoes lost in the cycle, 0-1.")
PROBE_SUCCESS = Family("dlict_probe_last_success_timestamp_seconds", "When the target last "
                        "answered, Unix time.")

# service probes (each kind's object in dlict.exporter.service_registry says which it fills)
TCP_UP = Family("dlict_tcp_up", "1 when a TCP connection was accepted.")
TCP_CONNECT = Family("dlict_tcp_connect_seconds", "Time to connect.")
DNS_UP = Family("dlict_dns_up", "1 when the resolver answered NOERROR with an address.")
DNS_LOOKUP = Family("dlict_dns_lookup_seconds", "Time to the resolver's answer.")
HTTP_UP = Family("dlict_http_up", "1 when the GET answered with a status below 400.")
HTTP_TTFB = Family("dlict_http_ttfb_seconds", "Time from connecting to the first byte of "
                   "the answer.")
HTTP_STATUS = Family("dlict_http_status_code", "HTTP status of the last GET (0 when none "
                      "came).")
HTTP_CERT = Family("dlict_http_cert_expiry_timestamp_seconds", "When the server's TLS "
                   "certificate expires, Unix time.")

# DLTV receivers
DLTV_UP = Family("dlict_dltv_check_up", "1 when the receiver could be read.")
DLTV_LOCKED = Family("dlict_dltv_locked", "1 when the tuner is locked (HLS: every channel's "
                      "stream is up).")
DLTV_SIGNAL = Family("dlict_dltv_signal_ratio", "Signal level as the receiver reports it, "
                      "0-1.")
DLTV_SNR = Family("dlict_dltv_snr_db", "Signal-to-noise ratio (C/N), dB.")
DLTV_BER = Family("dlict_dltv_ber", "Bit error rate, before error correction where reported.")
DLTV_UNC = Family("dlict_dltv_uncorrected_blocks_total", "Uncorrected blocks (the "
                  "receiver's own running count; it restarts with the receiver).", "counter")
DLTV_SNR_MIN = Family("dlict_dltv_snr_min_db", "The inventory's SNR threshold for this "
                       "receiver kind.")
DLTV_STREAM = Family("dlict_dltv_stream_up", "1 when the channel is being received.")
DLTV_BITRATE = Family("dlict_dltv_stream_bitrate_bps", "The channel's bitrate, bits per "
                       "second.")
DLTV_AGE = Family("dlict_dltv_segment_age_seconds", "HLS: age of the newest segment.")
DLTV_SUCCESS = Family("dlict_dltv_last_success_timestamp_seconds", "When the receiver was "
                       "last read, Unix time.")

# the monitor's own figures
MONITOR_TARGETS = Family("dlict_monitor_targets", "ICMP targets probed each cycle.")
MONITOR_CYCLE = Family("dlict_monitor_cycle_seconds", "How long the last ICMP cycle took.")
MONITOR_LAST_CYCLE = Family("dlict_monitor_last_cycle_timestamp_seconds", "When the last "
                            "ICMP cycle finished, Unix time.")
MONITOR_OVERRUN = Family("dlict_monitor_checks_overrun", "Service and DLTV checks still "
                         "running when their round ended.")

# network devices, from what the last `dlict netdev` runs recorded
NETDEV_UP = Family("dlict_netdev_up", "1 if the device answered over SSH at its last backup "
                   "or audit, 0 if not.")
NETDEV_CONTACT = Family("dlict_netdev_last_contact_timestamp_seconds", "When dlict last tried "
                        "the device, Unix time.")
NETDEV_CHANGE = Family("dlict_netdev_config_last_change_timestamp_seconds", "When the "
                       "device's stored configuration last changed, Unix time.")
NETDEV_FAILURES = Family("dlict_netdev_audit_failures", "Device rules (controls) the device "
                         "failed at its last audit.")
NETDEV_AUDITED = Family("dlict_netdev_last_audit_timestamp_seconds", "When the device was "
                        "last audited, Unix time.")

# `dlict logs check --metrics`, a node_exporter textfile
LOGS_COVERED = Family("dlict_logs_covered_seconds", "Time of the check window present, sealed "
                      "and intact (whole days times 86400).")
LOGS_REQUIRED = Family("dlict_logs_required_seconds", "Length of the check window the "
                       "retention asks for (whole days times 86400).")
LOGS_LAST_SEALED = Family("dlict_logs_last_sealed_day_timestamp_seconds",
                          "Start of the newest sealed day (Unix time).")
LOGS_INTEGRITY = Family("dlict_logs_integrity_ok",
                        "1 when every sealed file, the chain and the signatures hold.")
LOGS_HEARD = Family("dlict_logs_seconds_since_heard",
                    "Seconds since the source's newest log line was written.")
LOGS_OFFSET = Family("dlict_logs_clock_offset_seconds",
                     "Clock offset the source last reported (chronyc tracking, absolute).")
LOGS_CHECK_OK = Family("dlict_logs_check_ok", "1 when the whole check found nothing.")
LOGS_CHECKED_AT = Family("dlict_logs_check_timestamp_seconds",
                         "When the check ran (Unix time).")

# `dlict intake serve`: school agents, as their last batch told the office
AGENT_UP = Family("dlict_agent_up", "1 when the agent's last batch arrived within the last "
                  "10 minutes, 0 if not.")
AGENT_LAST_SEEN = Family("dlict_agent_last_seen_timestamp_seconds", "When the intake last "
                         "received a batch from the agent, Unix time.")
AGENT_OUTBOX = Family("dlict_agent_outbox_records", "Records waiting in the agent's outbox "
                      "when it sent its last batch.")
AGENT_DROPPED = Family("dlict_agent_dropped_total", "Records the agent dropped to stay under "
                       "its disk cap since it was installed, by kind.", "counter")
AGENT_CLOCK_OFFSET = Family("dlict_agent_clock_offset_seconds", "The intake's clock minus the "
                            "agent's when its last batch was sent (includes transit time).")
AGENT_SERIES_OVER_CAP = Family("dlict_agent_series_over_cap_total", "Samples stored but not "
                               "served because the agent sent more series than the intake "
                               "serves for one agent.", "counter")
AGENT_SAMPLE_HELP = "Sent by a school agent: the newest value of the series."

# Incident cases (dlict.incidents.metrics), served with the intake's /metrics
INCIDENT_OPEN = Family("dlict_incident_open", "Open incident cases (not closed, not a false "
                       "positive), by Cybersecurity Act threat level.")
INCIDENT_DEADLINE = Family("dlict_incident_deadline_timestamp_seconds", "When an open case's "
                           "report is due (Unix time), by case and kind (pdpc, agency, ncsa); "
                           "gone once the report is recorded as sent.")

# access requests (`dlict access list --metrics`, a node_exporter textfile)
ACCESS_OPEN = Family("dlict_access_requests_open", "Access requests received and not yet "
                     "approved or rejected.")
ACCESS_PAST_SLA = Family("dlict_access_requests_past_sla", "Open access requests past their "
                         "SLA (the last of the 3-5 working days).")
ACCESS_EXPIRING = Family("dlict_access_approvals_expiring", "Approved accounts whose approval "
                         "ends within the reminder window (14 days by default).")
ACCESS_EXPIRED = Family("dlict_access_approvals_expired", "Approvals past their expiry that "
                        "are still in force (not yet expired or revoked by dlict access).")
ACCESS_CHECKED_AT = Family("dlict_access_checked_timestamp_seconds", "When dlict access last "
                           "counted the requests, Unix time.")

ALL = tuple(value for value in tuple(globals().values()) if isinstance(value, Family))
