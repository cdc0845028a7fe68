"""The cases, one folder per XEP-0479 area: core/, im/, web/, mobile/."""
