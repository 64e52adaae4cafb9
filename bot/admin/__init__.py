"""The admin bot: commands and buttons, status messages, the send queue, installation.

:func:`bot.admin.install.install` puts it on a hydrogram client (a host bot's,
or the standalone one of ``python -m bot run``, started by
:mod:`bot.admin.standalone`). :mod:`bot.admin.commands`
parses (pure), :mod:`bot.admin.handlers` serves one feature per module,
:mod:`bot.admin.queue` runs confirmed broadcasts one at a time.

A change here: what an admin types, sees or presses.

May import: every package of ours except :mod:`bot.demo`.
"""
