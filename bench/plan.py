"""Time the full-size MiSME plan (1,440 speech x 1,058 music) from a synthetic inventory.

Target: under 2 s. Prints figures; asserts nothing.
"""

import time

from builders.misme.inventory import synthetic_inventory
from builders.misme.mix_plan import plan_mixes
from builders.misme.recipe import load_recipe


def main() -> None:
    recipe, _ = load_recipe()
    inventory = synthetic_inventory()
    for pairing in ("balanced", "random"):
        start = time.perf_counter()
        plan = plan_mixes(inventory, recipe.with_value("mixing.pairing", pairing))
        elapsed = time.perf_counter() - start
        print(
            f"plan ({pairing}): {len(plan.sources)} sources, {len(plan.mixes)} mixes in {elapsed:.3f} s "
            f"(target < 2 s: {'ok' if elapsed < 2 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
