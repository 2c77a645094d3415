"""``dlict monitor``: probes and DLTV checks per site, served to Prometheus at scrape time."""
