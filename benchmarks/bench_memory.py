"""Memory: the state machines of 100,000 cases loaded for a batch operation.

casechain shares one transitions Machine per SOP version; each case is a small
facts object. The baseline is the same process before loading the cases.
"""

from __future__ import annotations

import gc

from bench_lib import Row, rss_mb


def run(quick: bool, pg_url=None) -> list[Row]:
    from casechain.domain.roles import Actor, Role
    from casechain.domain.sop import CaseFacts
    from casechain.domain.workflow import workflow
    from casechain.sops import load_sop_file, shipped_sop_files

    n = 20_000 if quick else 100_000
    sop = load_sop_file(next(p for p in shipped_sop_files() if p.stem == "default"))
    flow = workflow(sop)
    actor = Actor("SHO-1", "Insp", Role.SHO, "Lahore", "CLN")
    gc.collect()
    before = rss_mb()
    states = [s.name for s in sop.states if not s.terminal]
    batch = [
        CaseFacts(states[i % len(states)], "CLN", "Lahore", "IO-1", ("302", "34"), frozenset(), None, {"fir_copy": "done"})
        for i in range(n)
    ]
    allowed = sum(1 for facts in batch for o in flow.options(facts, actor) if o.allowed) if quick else sum(
        1 for facts in batch if not flow.blockers(sop.event("start_investigation"), facts, actor)[0]
    )
    after = rss_mb()
    return [Row(f"RSS with {n:,} cases loaded (MB)", after, before, "MB vs process before", "<=300 MB", after <= 300,
                note=f"{allowed} moves evaluated as allowed")]
