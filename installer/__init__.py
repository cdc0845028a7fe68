"""``tigase-py install``: ansible playbooks in ``project/``, driven through ansible-runner.

``options`` holds what the command line asks for, ``render`` turns it into the host's config,
``wheelhouse`` builds the server and its dependencies as wheels on the controller, ``inventory``
builds the inventory and extra vars, ``runner`` runs a playbook and folds its events (``events``),
and ``health`` checks the result from the controller.
"""
