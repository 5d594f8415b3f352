"""What a team does and what follows: submit (refusals, quota, scoring, storing, the
board's intervals), select, the sweep of unfinished rows, and rescore."""
