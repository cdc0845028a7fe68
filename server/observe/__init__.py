"""Views over the metrics registry for outside monitoring: the SNMP agent."""
