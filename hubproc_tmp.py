import asyncio, json, os, sys, time
import django
django.setup()
from dashboards.events.hub import get_hub
from dashboards.events.delivery import event_message, events_group
from dashboards.events.event import Event
from channels.layers import get_channel_layer

async def main():
    seen = []
    hub = get_hub()
    await hub.subscribe(1, seen.append)
    print("ready", flush=True)
    await get_channel_layer().group_send(events_group(1), event_message(Event(entity_type="custom", operation="update", tenant_id=1)))
    while not seen:
        await asyncio.sleep(0.01)
    print("got it", flush=True)

t=time.time()
asyncio.run(main())
print("exited run", time.time()-t, flush=True)
