"""Submitting built reports to the CyberTipline Reporting API, through a durable outbox.

* :mod:`.client`: the HTTP client, one method per lifecycle call, typed errors (:mod:`.errors`).
* :mod:`.outbox`: queue a built report, list, re-queue, counts for metrics, receipts for a case.
* :mod:`.delivery`: the leased, resumable step machine (``deliver_due_reports``).
* :mod:`.worker`: the background loop a service runs.

This package imports nothing at package level, so that importing its tables (from
``brightline.storage.models``) does not pull in the HTTP client.
"""
