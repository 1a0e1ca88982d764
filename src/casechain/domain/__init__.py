"""Pure rules of casechain: SOP model, workflow guards, audit chain, time.

Nothing here touches a database, a terminal or a file, so every rule can be
tested with plain values (and hypothesis).
"""
