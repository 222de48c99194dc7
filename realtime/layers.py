"""The channel layer: channels-redis's pub/sub layer, made to reconnect.

Upstream keeps one pub/sub connection per shard for the life of the event
loop and sends SUBSCRIBE on it with no retry, so after Redis restarts the
first command on that connection fails (the first socket after an outage
closed with 1011) even though Redis is back. Here a command that meets a dead
connection reconnects once and is sent again; redis-py's PubSub resubscribes
every channel it holds when it reconnects, so open sockets keep their groups."""

import asyncio

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close, create_pool, decode_hosts
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

# One reconnect per command: enough for a connection Redis dropped while it
# restarted; a Redis still down fails at once (connection refused) as before.
_RECONNECT_ONCE = Retry(NoBackoff(), 1)
_CONNECT_TIMEOUT_SECONDS = 2


class _ReconnectingShard(RedisSingleShardConnection):
    def _ensure_redis(self):
        if self._redis is None:
            host = {"retry": _RECONNECT_ONCE, "socket_connect_timeout": _CONNECT_TIMEOUT_SECONDS, **self.host}
            self._redis = aioredis.Redis(connection_pool=create_pool(host))
            self._pubsub = self._redis.pubsub()


class _ReconnectingLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts=None, *args, **kwargs):
        super().__init__(hosts, *args, **kwargs)
        self._shards = [_ReconnectingShard(host, self) for host in decode_hosts(hosts)]


class ReconnectingPubSubChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self):
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _ReconnectingLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
