"""``python -m bot demo``: the product's main job against the built-in Telegram simulator.

:mod:`bot.demo.cli` reads the command line, :mod:`bot.demo.broadcast` runs one
broadcast and returns its figures, :mod:`bot.demo.display` shows it (live with rich
on a terminal, plain lines elsewhere), :mod:`bot.demo.chaos` runs it through
injected faults and a restart and checks the invariants, :mod:`bot.demo.chat` lets
you be the admin in the terminal (what you type: :mod:`bot.demo.chatinput`, read by
:mod:`bot.demo.chatstdin`; what you see: :mod:`bot.demo.chatscreen`),
:mod:`bot.demo.audience` seeds the simulated users, and :mod:`bot.demo.simulator` is
the simulated Telegram (also used by the tests and benchmarks). ``--report DIR``
writes the broadcast's report (:mod:`bot.reports`).

A change here: what the demo shows, or how the simulated Telegram behaves.

May import: anything of ours (the simulator itself: only hydrogram).
"""
