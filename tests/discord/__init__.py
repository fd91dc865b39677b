"""Discord adapter tests (a package, so `import discord` keeps meaning discord.py)."""
