"""Reading what parents type: one module per kind of answer, word lists in bot/lexicon/.

Pure functions (no Rasa, no I/O): each takes the message and the live facts it matches against
(the season's weeks, the family's children) and returns plain values. `bot.actions.parsing`
re-exports the public names.
"""
