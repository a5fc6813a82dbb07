"""The jobs benchmark's app: a no-op job, a job that stamps its progress, and a 10-step job."""

import time

from dashboards.sdk import invoke_long_callback, progress

initial_state = {"stamp": "", "step": "", "result": ""}
page = """
{% button "Stamp" on_click="start_stamps" id="stamps" %}
{% button "Run" on_click="start_steps" id="run" %}
{% text stamp id="stamp" %}
{% text step id="step" %}
{% text result id="result" %}
"""


def noop():
    return time.time()


def stamps(count, gap):
    for number in range(count):
        time.sleep(gap)
        progress((number + 1) / count, repr(time.time()))
    return "stamped"


def steps(count, seconds):
    for number in range(count):
        time.sleep(seconds)
        progress((number + 1) / count, f"step {number + 1}")
    return "finished"


def on_stamp(state, status):
    if not isinstance(status, bool):
        state.stamp = status.message


def on_step(state, status, result):
    if isinstance(status, bool):
        state.result = result if status else "failed"
    else:
        state.step = status.message


def start_stamps(state):
    invoke_long_callback(state, stamps, [200, 0.05], on_stamp)


def start_steps(state):
    state.step, state.result = "", ""
    invoke_long_callback(state, steps, [10, 0.2], on_step)
