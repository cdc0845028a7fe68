"""Probes that read a live server (HTTP, SNMP, JMX, XMPP ad-hoc) and fold them into a health verdict."""
