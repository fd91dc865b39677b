"""The Discord adapter: `/study` as a discord.py command tree, embeds, persistent buttons, DMs.

Inside this package `import discord` still means discord.py: absolute imports never resolve
to `adapters.discord`. Modules:

- `tree`: the `/study` group and its typed options, derived from `bot.registry.COMMANDS`.
- `render`: a `Reply` as embeds and button rows, escaped and within Discord's limits.
- `buttons`: the persistent `StudyButton` (custom_id `sb:<action_id>:<value>`).
- `client`: the client, who-is-calling, answering interactions (defer, DM, replace).
- `messenger`: the clock's `Messenger` over discord.py's REST client.
- `cli`: `studybot discord sync` and `studybot serve discord`.
"""
