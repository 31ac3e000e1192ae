// The router's HTTP front driven with the official npm clients `ollama` and `openai`, against
// the cluster test/integ/t_clients.sh starts (ORION_URL: the router's --http-listen). Prints
// TAP: "ok N - ..." / "not ok N - ...", then the plan "1..N".
import { Ollama } from 'ollama';
import OpenAI from 'openai';

const url = process.env.ORION_URL;
if (!url) {
    console.log('not ok 1 - ORION_URL is set');
    console.log('1..1');
    process.exit(1);
}
const MODEL = 'gemma3:1b';
let n = 0;
let failed = 0;

function ok(cond, desc, detail) {
    n++;
    if (cond) {
        console.log(`ok ${n} - ${desc}`);
    } else {
        failed++;
        console.log(`not ok ${n} - ${desc}`);
        if (detail !== undefined) console.log(`#   ${JSON.stringify(detail)}`);
    }
}

// Run one check; an exception is a failure with its message.
async function t(desc, fn) {
    try {
        const r = await fn();
        ok(r === true, desc, r);
    } catch (e) {
        ok(false, desc, `${e && e.name}: ${e && e.message}`);
    }
}

// A call that must fail: its status and message.
async function rejects(fn) {
    try {
        await fn();
    } catch (e) {
        return { status: e.status ?? e.status_code, message: e.message, name: e.name, error: e.error,
                 notFound: e instanceof OpenAI.NotFoundError, badRequest: e instanceof OpenAI.BadRequestError };
    }
    return null;
}

const ollama = new Ollama({ host: url });
const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'any', maxRetries: 0, timeout: 60000 });
const msgs = [{ role: 'user', content: 'Why is the sky blue?' }];

// --- ollama --------------------------------------------------------------------------------
let whole = '';
await t('ollama.chat (not streamed): an assistant message, done, counters', async () => {
    const r = await ollama.chat({ model: MODEL, messages: msgs, stream: false });
    whole = r.message.content;
    return (r.model === MODEL && r.message.role === 'assistant' && whole.length > 0 &&
            r.done === true && r.done_reason === 'stop' && r.eval_count > 0) || r;
});
await t('ollama.chat (streamed): parts add up to the same text, the last one done', async () => {
    const it = await ollama.chat({ model: MODEL, messages: msgs, stream: true });
    let text = '', parts = 0, last;
    for await (const p of it) { text += p.message.content; parts++; last = p; }
    return (parts > 1 && text === whole && last.done === true && last.eval_count > 0) ||
        { parts, text, whole, last };
});
let gen = '';
await t('ollama.generate (not streamed): the response, done_reason', async () => {
    const r = await ollama.generate({ model: MODEL, prompt: 'Tell me a story', stream: false });
    gen = r.response;
    return (gen.length > 0 && r.done === true && r.done_reason === 'stop') || r;
});
await t('ollama.generate (streamed): same text in pieces', async () => {
    const it = await ollama.generate({ model: MODEL, prompt: 'Tell me a story', stream: true });
    let text = '', parts = 0;
    for await (const p of it) { text += p.response; parts++; }
    return (parts > 1 && text === gen) || { parts, text, gen };
});
await t('ollama.list: the installed models of every node', async () => {
    const r = await ollama.list();
    const names = r.models.map((m) => m.name);
    return (names.includes(MODEL) && names.includes('qwen2.5:0.5b')) || names;
});
await t('ollama.ps: the loaded model with its node (within 5 s: health every second)', async () => {
    let r;
    for (let i = 0; i < 50; i++) {
        r = await ollama.ps();
        const m = r.models.find((x) => x.name === MODEL);
        if (m !== undefined && /^pi-[ab]$/.test(m.node)) return true;
        await new Promise((res) => setTimeout(res, 100));
    }
    return r;
});
await t('ollama.chat with an unknown model: ResponseError 404 "model \'...\' not found"', async () => {
    const e = await rejects(() => ollama.chat({ model: 'nope:1b', messages: msgs }));
    return (e && e.name === 'ResponseError' && e.status === 404 &&
            e.message === "model 'nope:1b' not found") || e;
});
await t('ollama.generate with an unknown model, streamed: the same 404', async () => {
    const e = await rejects(async () => {
        for await (const p of await ollama.generate({ model: 'nope:1b', prompt: 'x', stream: true })) void p;
    });
    return (e && e.status === 404) || e;
});

// --- openai --------------------------------------------------------------------------------
let oaiText = '';
await t('openai chat.completions.create (not streamed): chat.completion, usage, X-Orion headers', async () => {
    const { data: r, response } = await openai.chat.completions
        .create({ model: MODEL, messages: msgs }).withResponse();
    oaiText = r.choices[0].message.content;
    const node = response.headers.get('x-orion-node');
    const cold = response.headers.get('x-orion-cold-start');
    return (r.object === 'chat.completion' && r.choices[0].finish_reason === 'stop' &&
            oaiText.length > 0 && r.usage.total_tokens === r.usage.prompt_tokens + r.usage.completion_tokens &&
            r.usage.completion_tokens > 0 && /^pi-[ab]$/.test(node) && /^(true|false)$/.test(cold) &&
            r.orion && r.orion.node === node && r.orion.cold_start === (cold === 'true')) || { r, node, cold };
});
await t('openai chat.completions.create (streamed, include_usage): deltas, finish, usage', async () => {
    const s = await openai.chat.completions.create({
        model: MODEL, messages: msgs, stream: true, stream_options: { include_usage: true } });
    let text = '', finish = null, usage = null, chunks = 0;
    for await (const c of s) {
        chunks++;
        if (c.choices.length) {
            text += c.choices[0].delta.content ?? '';
            finish = c.choices[0].finish_reason ?? finish;
        }
        if (c.usage) usage = c.usage;
    }
    return (chunks > 2 && text === oaiText && finish === 'stop' && usage && usage.completion_tokens > 0) ||
        { chunks, text, finish, usage };
});
// the service contract (docs/SERVICE.md): task_type as an extra body field, the error schema
await t('openai: model "auto" with task_type "quick" as an extra body field: chosen for the fast role', async () => {
    const r = await openai.chat.completions.create({ model: 'auto', task_type: 'quick', messages: msgs });
    return (r.model === MODEL && r.orion && r.orion.role === 'fast' && r.orion.task_type === 'quick') || r;
});
// orchestration (docs/PROTOCOL.md, "Orchestration"): orchestration_mode and models as extra body
// fields; the answer is a chat.completion the client reads as usual, with what ran alongside.
// One model for every step (t_clients.sh's router reconciles and synthesizes with it too): the
// load test after these needs qwen2.5:0.5b loaded nowhere.
const pair = [MODEL, MODEL];
const kinds = (r) => (r.orchestration && r.orchestration.steps || []).map((s) => s.kind).join(',');
const orchestrated = (r, mode) => r.object === 'chat.completion' && r.choices[0].message.content.length > 0 &&
    r.orchestration && r.orchestration.mode === mode && r.inference_metadata &&
    r.inference_metadata.orchestration_mode === mode && r.orchestration.steps.every((s) => s.status === 'ok');
await t('openai: orchestration_mode critique with a score marker: generator, critic, early stop', async () => {
    const r = await openai.chat.completions.create({ model: 'auto', orchestration_mode: 'critique', models: pair,
        max_tokens: 8, messages: [{ role: 'user', content: 'Name a prime. [[sim:score=0.95]]' }] });
    return (orchestrated(r, 'critique') && kinds(r) === 'generate,critic' && r.orchestration.confidence === 0.95 &&
            r.choices[0].finish_reason === 'stop') || r;
});
await t('openai: orchestration_mode debate: two legs, then the reconciler', async () => {
    const r = await openai.chat.completions.create({ model: 'auto', orchestration_mode: 'debate', models: pair,
        max_tokens: 8, messages: msgs });
    return (orchestrated(r, 'debate') && /^leg,leg(,leg,leg)*,reconcile$/.test(kinds(r)) &&
            r.orchestration.agreement >= 0) || r;
});
await t('openai: orchestration_mode ensemble: a leg per model, then the synthesizer', async () => {
    const r = await openai.chat.completions.create({ model: 'auto', orchestration_mode: 'ensemble', models: pair,
        max_tokens: 8, messages: msgs });
    return (orchestrated(r, 'ensemble') && kinds(r) === 'leg,leg,synthesize' &&
            r.orchestration.models_used.includes(MODEL)) || r;
});
await t('openai: orchestration_mode pipeline: three stages in order', async () => {
    const r = await openai.chat.completions.create({ model: 'auto', orchestration_mode: 'pipeline', models: pair,
        max_tokens: 8, messages: msgs });
    const st = r.orchestration && r.orchestration.steps.map((s) => s.stage).join(',');
    return (orchestrated(r, 'pipeline') && st === 'draft,refine,validate') || r;
});
await t('openai: orchestration with response_format json_schema: the answer follows the caller\'s schema', async () => {
    const r = await openai.chat.completions.create({ model: 'auto', orchestration_mode: 'critique', models: pair,
        max_tokens: 20, messages: [{ role: 'user', content: 'Biggest city? [[sim:score=0.95]]' }],
        response_format: { type: 'json_schema', json_schema: { name: 'city', schema: { type: 'object',
            properties: { city: { type: 'string' } }, required: ['city'] } } } });
    let j = null;
    try { j = JSON.parse(r.choices[0].message.content); } catch (e) { j = null; }
    return (orchestrated(r, 'critique') && kinds(r) === 'generate,critic' && j && typeof j.city === 'string') || r;
});
await t('ollama: a streamed debate (orchestration_mode, models in the request): progress lines read as empty pieces, the reconciler\'s text in pieces, the report on the done line', async () => {
    const s = await ollama.chat({ model: 'auto', orchestration_mode: 'debate', models: pair, messages: msgs,
        stream: true, options: { num_predict: 8 } });
    let text = '', progress = 0, pieces = 0, done = null;
    for await (const p of s) {
        text += p.message.content;
        if (p.orchestration_progress) progress++;
        if (!p.done && p.message.content) pieces++;
        if (p.done) done = p;
    }
    return (progress >= 3 && pieces > 1 && text.length > 0 && done && done.orchestration &&
            done.orchestration.mode === 'debate' && !!done.inference_metadata) ||
        JSON.stringify({ progress, pieces, text, report: !!(done && done.orchestration) });
});
await t('openai: a streamed debate: the reconciler\'s text in chunks, then stop with the report', async () => {
    const s = await openai.chat.completions.create({ model: 'auto', orchestration_mode: 'debate', models: pair,
        max_tokens: 8, messages: msgs, stream: true });
    let text = '', finish = null, pieces = 0, last = null;
    for await (const c of s) {
        if (!c.choices.length) continue;
        if (c.choices[0].delta.content) pieces++;
        text += c.choices[0].delta.content ?? '';
        finish = c.choices[0].finish_reason ?? finish;
        last = c;
    }
    return (text.length > 0 && pieces > 1 && finish === 'stop' && last.orchestration &&
            last.orchestration.mode === 'debate' && !!last.inference_metadata) ||
        JSON.stringify({ text, pieces, finish, report: !!(last && last.orchestration) });
});
await t('openai: max_tokens past the context: BadRequestError 400 CONTEXT_BUDGET_EXCEEDED', async () => {
    const e = await rejects(() => openai.chat.completions.create({ model: MODEL, messages: msgs, max_tokens: 1000000 }));
    return (e && e.badRequest && e.status === 400 && e.error && e.error.code === 'CONTEXT_BUDGET_EXCEEDED' &&
            e.error.type === 'non_retriable' && e.error.details.model === MODEL &&
            e.error.details.budget > 0) || e;
});
let cmpl = '';
await t('openai completions.create (not streamed): text_completion with usage', async () => {
    const r = await openai.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 5 });
    cmpl = r.choices[0].text;
    return (r.object === 'text_completion' && /^cmpl-/.test(r.id) && cmpl.length > 0 &&
            r.choices[0].finish_reason === 'length' && r.usage.completion_tokens === 5) || r;
});
await t('openai completions.create (streamed, include_usage): same text, then the usage', async () => {
    const s = await openai.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 5,
        stream: true, stream_options: { include_usage: true } });
    let text = '', finish = null, usage = null;
    for await (const c of s) {
        if (c.choices.length) { text += c.choices[0].text; finish = c.choices[0].finish_reason ?? finish; }
        if (c.usage && c.usage.total_tokens) usage = c.usage;
    }
    return (text === cmpl && finish === 'length' && usage && usage.completion_tokens === 5) ||
        { text, cmpl, finish, usage };
});
await t('openai completions.create with a suffix: answered', async () => {
    const r = await openai.completions.create({ model: MODEL, prompt: 'def f(', suffix: '    return x', max_tokens: 3 });
    return (r.choices[0].text.length > 0 && r.usage.completion_tokens === 3) || r;
});
await t('openai models.list: OpenAI\'s list with every model', async () => {
    const ids = [];
    for await (const m of openai.models.list()) ids.push(m.id);
    return (ids.includes(MODEL) && ids.includes('qwen2.5:0.5b')) || ids;
});
await t('openai models.retrieve: one model object', async () => {
    const m = await openai.models.retrieve(MODEL);
    return (m.id === MODEL && m.object === 'model' && m.owned_by === 'library') || m;
});
await t('openai models.retrieve of an unknown model: NotFoundError 404', async () => {
    const e = await rejects(() => openai.models.retrieve('nope:1b'));
    return (e && e.notFound && e.status === 404 &&
            e.error && e.error.code === 'MODEL_NOT_FOUND' && e.error.type === 'non_retriable') || e;
});
await t('openai chat with an unknown model: 404 "model \'nope:1b\' not found"', async () => {
    const e = await rejects(() => openai.chat.completions.create({ model: 'nope:1b', messages: msgs }));
    return (e && e.status === 404 && /model 'nope:1b' not found/.test(e.message)) || e;
});
await t('openai chat with no messages: 400 BadRequestError', async () => {
    const e = await rejects(() => openai.chat.completions.create({ model: MODEL, messages: [] }));
    return (e && e.badRequest && e.status === 400) || e;
});

// --- embeddings, model management, Responses (issue 23) ------------------------------------
const EMB = 'nomic-embed-text';
await t('ollama.embed of two inputs: two vectors of the same length, in order', async () => {
    const r = await ollama.embed({ model: EMB, input: ['the sky is blue', 'grass is green'] });
    const one = await ollama.embed({ model: EMB, input: 'grass is green' });
    return (r.embeddings.length === 2 && r.embeddings[0].length > 0 &&
            r.embeddings[0].length === r.embeddings[1].length &&
            JSON.stringify(r.embeddings[1]) === JSON.stringify(one.embeddings[0])) ||
        { n: r.embeddings && r.embeddings.length };
});
await t('ollama.embeddings (legacy): one vector', async () => {
    const r = await ollama.embeddings({ model: EMB, prompt: 'the sky is blue' });
    return (Array.isArray(r.embedding) && r.embedding.length > 0) || r;
});
await t('openai embeddings.create (base64 by default, decoded by the client): the same vector as ollama.embed', async () => {
    const r = await openai.embeddings.create({ model: EMB, input: ['grass is green'] });
    const o = await ollama.embed({ model: EMB, input: 'grass is green' });
    const a = r.data[0].embedding, b = o.embeddings[0];
    return (r.object === 'list' && a.length === b.length &&
            a.every((x, i) => Math.abs(x - b[i]) < 1e-6) && r.usage.prompt_tokens > 0) ||
        { len: a && a.length, want: b.length };
});
await t('ollama.version: a semver', async () => {
    const r = await ollama.version();
    return /^\d+\.\d+\.\d+/.test(r.version) || r;
});
await t('ollama.pull with stream: progress lines from both nodes, then success', async () => {
    const nodes = new Set();
    let last = null, completed = 0;
    for await (const p of await ollama.pull({ model: 'gemma3:4b', stream: true })) {
        if (p.node) nodes.add(p.node);
        if (p.completed) completed++;
        last = p.status;
    }
    return (last === 'success' && nodes.has('pi-a') && nodes.has('pi-b') && completed > 0) ||
        { last, nodes: [...nodes], completed };
});
// the router's /api/tags follows the nodes' health: wait for it to catch up
async function listed(name, want) {
    for (let i = 0; i < 100; i++) {
        const r = await ollama.list();
        if (r.models.some((m) => m.name === name) === want) return true;
        await new Promise((res) => setTimeout(res, 100));
    }
    return false;
}
await t('... the pulled model is listed by ollama.list', async () => listed('gemma3:4b', true));
await t('ollama.copy: the copy is listed', async () => {
    const r = await ollama.copy({ source: 'gemma3:4b', destination: 'mine:v1' });
    return (r.status === 'success' && await listed('mine:v1', true)) || r;
});
await t('ollama.delete of the copy and of the pulled model: neither is listed any more', async () => {
    await ollama.delete({ model: 'mine:v1' });
    await ollama.delete({ model: 'gemma3:4b' });
    return (await listed('mine:v1', false)) && (await listed('gemma3:4b', false));
});
await t('openai responses.create (not streamed): output_text and usage', async () => {
    const r = await openai.responses.create({ model: MODEL, instructions: 'Be brief.', input: 'Why is the sky blue?', max_output_tokens: 6 });
    return (r.object === 'response' && r.status === 'completed' && r.output_text.length > 0 &&
            r.output[0].type === 'message' && r.usage.output_tokens === 6) || r;
});
await t('openai responses.create (streamed): created, text deltas, completed; the deltas make the text', async () => {
    const stream = await openai.responses.create({ model: MODEL, input: [{ role: 'user', content: 'Say hi' }], max_output_tokens: 5, stream: true });
    const types = [];
    let text = '', final = null;
    for await (const ev of stream) {
        types.push(ev.type);
        if (ev.type === 'response.output_text.delta') text += ev.delta;
        if (ev.type === 'response.completed') final = ev.response;
    }
    return (types[0] === 'response.created' && types.at(-1) === 'response.completed' && final &&
            text.length > 0 && final.output[0].content[0].text === text &&
            final.usage.output_tokens === 5) || { types, text };
});
await t('openai responses.stream helper: finalResponse has the text', async () => {
    const r = await openai.responses.stream({ model: MODEL, input: 'hello', max_output_tokens: 4 }).finalResponse();
    return (r.status === 'completed' && r.output_text.length > 0) || r;
});

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
