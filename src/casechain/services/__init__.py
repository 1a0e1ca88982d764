"""One function per user action: ``(uow, actor badge, plain values) -> result``.

Each runs in one transaction, checks role and jurisdiction, appends the audit
event and commits once at the end. Nothing here prints or parses options.
"""
