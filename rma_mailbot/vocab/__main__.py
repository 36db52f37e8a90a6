"""`python -m rma_mailbot.vocab`: rebuild forms.json from simplemma after a change to a vocabulary file."""

from rma_mailbot.vocab import FORMS, write_forms

write_forms()
print(f"wrote {FORMS}")
