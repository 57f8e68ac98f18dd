"""Registering the slash commands with Discord, in the background, until it works.

The commands registered last time keep working meanwhile, and mentions never depend on it: a failed sync
(a 429, a 5xx, a response discord.py cannot parse, the network) is logged and tried again later with
growing delays; it never takes the bot down. Only Discord refusing the commands themselves (a 4xx other
than 429: they are malformed, a bug of ours) stops the retries, with an error.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord
from discord import app_commands

log = logging.getLogger(__name__)

SYNC_BACKOFF_S = (10, 30, 60, 300, 600)  # then every 10 minutes


async def keep_syncing(tree: app_commands.CommandTree, backoff: tuple[float, ...] = SYNC_BACKOFF_S) -> bool:
    """Sync `tree` until it succeeds (True) or Discord refuses the commands for good (False)."""
    failures = 0
    while True:
        wait = backoff[min(failures, len(backoff) - 1)]
        try:
            commands = await tree.sync()
        except discord.RateLimited as e:  # a wait longer than the client's max_ratelimit_timeout
            why, wait = f"rate limited for {e.retry_after:.0f}s", max(wait, e.retry_after)
        except discord.HTTPException as e:
            if 400 <= e.status < 500 and e.status != 429:
                log.error("discord: Discord refused the slash commands (%s): not trying again", e)
                return False
            why = f"HTTP {e.status}"
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            why = f"network: {e!r}"
        except Exception as e:  # a response the library cannot parse: worth a traceback, not the bot
            log.warning("discord: registering the slash commands failed unexpectedly", exc_info=True)
            why = f"{type(e).__name__}: {e}"
        else:
            log.info("discord: %d slash commands registered", len(commands))
            return True
        failures += 1
        log.warning("discord: could not register the slash commands (%s); trying again in %ss, mentions keep "
                    "working meanwhile", why, wait)
        await asyncio.sleep(wait)
