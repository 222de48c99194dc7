"""The clock the WebSocket heartbeat reads: the event loop's monotonic time
and asyncio.sleep. Tests swap in a clock they advance by hand
(EventConsumer.clock), so a heartbeat test never waits for real seconds."""

import asyncio


class LoopClock:
    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
