"""Proof that the loop works: ratings of a trait make the next version write it.

A simulated editor rates 5 stars (and approves) every email subject of the
shipped demo model that ends with a question, and 1 star (and rejects) the
rest. One training job fine-tunes on those ratings. The child version then
gets the same generation jobs (same prompts, same seeds) as its parent, and
must end clearly more of its subjects with a question. Real parts all the
way: generation jobs run by the generation runner, ratings through the
review services, the training job through the training runner.
"""

import pytest

from webapp.campaigns.services import do_create_campaign
from webapp.models_registry.services import (
    active_version_for,
    do_register_model_version,
)
from webapp.training.simulation import run_feedback_loop

pytestmark = pytest.mark.slow

JOBS, PER_JOB = 4, 24  # 96 candidates per version
MARGIN = 0.2


def test_rating_a_trait_high_makes_the_child_write_it_more(
    org, admin_user, editor, demo_checkpoint, model_dir
):
    parent, _ = do_register_model_version(
        demo_checkpoint, name="demo", global_default=True
    )
    # No brand voice, tone or keywords: the plain prompt the demo corpus
    # mostly has for email subjects.
    campaigns = [
        do_create_campaign(org, admin_user, name=name, product_name=product)
        for name, product in (("Blenders", "Acme Blender"), ("Shoes", "Trail Runner X"))
    ]
    result = run_feedback_loop(
        campaigns=campaigns,
        admin=admin_user,
        editor=editor,
        parent=parent,
        trait="question",
        content_type="email_subject",
        jobs=JOBS,
        per_job=PER_JOB,
        training_options={"max_steps": 30},
    )
    print(result.summary())
    # Enough trait examples for the measurement to mean something.
    assert result.train_trait_candidates >= 5, result.summary()
    assert result.rate_after >= result.rate_before + MARGIN, result.summary()
    assert result.child.parent == parent
    # The admin activates; the run itself never does.
    assert active_version_for(org) == parent
