// OpenStack Swift's configuration for scripts/services.mjs: an all-in-one Swift (one replica,
// one device) with the S3 API and tempauth, on loopback, under one folder.

export const RING_SCRIPT = `
import sys
from swift.common.ring import RingBuilder
args = sys.argv[1:]
for name, port in zip(args[::2], args[1::2]):
    builder = RingBuilder(6, 1, 1)
    builder.add_dev({'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': int(port),
                     'device': 'd1', 'weight': 1})
    builder.rebalance()
    builder.save(name + '.builder')
    builder.get_ring().save(name + '.ring.gz')
`;

export function swiftConf() {
  return `[swift-hash]
swift_hash_path_suffix = reelchat-test-suffix
swift_hash_path_prefix = reelchat-test-prefix
[storage-policy:0]
name = Policy-0
default = yes
`;
}

export function backendConf(kind, port, srv, etc, user) {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
devices = ${srv}
mount_check = false
swift_dir = ${etc}
user = ${user}
workers = 1
log_level = WARNING
[pipeline:main]
pipeline = ${kind}-server
[app:${kind}-server]
use = egg:swift#${kind}
`;
}

// tempauth refuses every request, S3 ones included, without a `swift.cache` ("Memcache
// required"). Rather than run memcached, the proxy (one worker process) gets this dict.
export const MEMORY_CACHE = `
import json, time

class MemoryCache(object):
    def __init__(self):
        self.entries = {}

    def _live(self, key):
        entry = self.entries.get(key)
        if entry and entry[1] and entry[1] < time.time():
            del self.entries[key]
            return None
        return entry

    def get(self, key, raise_on_error=False):
        entry = self._live(key)
        return json.loads(entry[0]) if entry else None

    def set(self, key, value, serialize=True, time=0, min_compress_len=0, raise_on_error=False):
        self.entries[key] = (json.dumps(value), _expiry(time))

    def delete(self, key, server_key=None):
        self.entries.pop(key, None)

    def incr(self, key, delta=1, time=0):
        entry = self._live(key)
        value = max(0, (json.loads(entry[0]) if entry else 0) + delta)
        self.entries[key] = (json.dumps(value), entry[1] if entry else _expiry(time))
        return value

    def decr(self, key, delta=1, time=0):
        return self.incr(key, -delta, time)

    def get_multi(self, keys, server_key):
        return [self.get(key) for key in keys]

    def set_multi(self, mapping, server_key, serialize=True, time=0, min_compress_len=0):
        for key, value in mapping.items():
            self.set(key, value, time=time)

def _expiry(ttl):
    return time.time() + ttl if ttl else 0

def filter_factory(global_conf, **local_conf):
    cache = MemoryCache()
    def make(app):
        def middleware(env, start_response):
            env['swift.cache'] = cache
            return app(env, start_response)
        return middleware
    return make
`;

export function proxyConf(port, etc, user, secret) {
  const filters = ['catch_errors', 'gatekeeper', 'healthcheck', 'listing_formats', 'bulk']
    .concat(['tempurl', 'copy', 'slo', 'dlo', 'versioned_writes'])
    .map((name) => `[filter:${name}]\nuse = egg:swift#${name}\n`)
    .join('');
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
swift_dir = ${etc}
user = ${user}
workers = 1
log_level = WARNING
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = ${secret} .admin
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
paste.filter_factory = reelchat_memory_cache:filter_factory
${filters}`;
}
