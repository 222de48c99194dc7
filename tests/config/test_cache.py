"""The Django cache reuses one redis-py client per connection pool."""

from django.core.cache import cache

from config.cache import ReusedClientRedisCacheClient, cache_get_many, cache_set


def test_one_client_serves_every_call_and_the_cache_still_reads_and_writes():
    client = cache._cache
    assert isinstance(client, ReusedClientRedisCacheClient)
    assert client.get_client("a") is client.get_client("b", write=True)

    cache_set("test:reused-client", {"n": 1}, 30)
    assert cache_get_many(["test:reused-client", "test:absent"]) == {"test:reused-client": {"n": 1}}
