// ollama-sim driven straight with the official npm clients `ollama` and `openai`: what issue 23's
// router tests will pass through (version, pull with progress, list, show, embed, embeddings,
// copy, delete, structured output; OpenAI embeddings in both encodings). SIM_URL: the sim.
// Prints TAP: "ok N - ..." / "not ok N - ...", then the plan "1..N".
import { Ollama } from 'ollama';
import OpenAI from 'openai';

const url = process.env.SIM_URL;
let n = 0;
let failed = 0;

function ok(cond, desc, detail) {
    n++;
    console.log(`${cond ? '' : 'not '}ok ${n} - ${desc}`);
    if (!cond) {
        failed++;
        if (detail !== undefined) console.log(`#   ${JSON.stringify(detail).slice(0, 400)}`);
    }
}

async function t(desc, fn) {
    try {
        const r = await fn();
        ok(r === true, desc, r);
    } catch (e) {
        ok(false, desc, String(e));
    }
}

const ollama = new Ollama({ host: url });
const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused' });
const critic = {
    type: 'object',
    properties: { score: { type: 'number', minimum: 0, maximum: 1 }, issues: { type: 'array', items: { type: 'string' } } },
    required: ['score', 'issues'],
};

await t('ollama.version: the flag\'s semver', async () => {
    const v = await ollama.version();
    return v.version === '0.12.6' || v;
});
await t('ollama.pull (streamed): progress with digests and byte counts, then success', async () => {
    const seen = [];
    let bytes = false;
    for await (const p of await ollama.pull({ model: 'qwen2.5:0.5b', stream: true })) {
        seen.push(p.status);
        if (p.digest && p.total > 0 && p.completed === p.total) bytes = true;
    }
    return (seen[0] === 'pulling manifest' && bytes && seen.at(-1) === 'success') || seen;
});
await t('ollama.list: the pulled model with its size', async () => {
    const l = await ollama.list();
    const m = l.models.find((x) => x.name === 'qwen2.5:0.5b');
    return (m && m.size === 397821319 && m.details.family === 'qwen2') || l;
});
await t('ollama.pull of a model not in the registry: an error', async () => {
    try {
        for await (const p of await ollama.pull({ model: 'nothere:1b', stream: true })) void p;
        return 'no error';
    } catch (e) {
        return /file does not exist/.test(String(e)) || String(e);
    }
});
await t('ollama.show: capabilities and model_info', async () => {
    const s = await ollama.show({ model: 'nomic-embed-text' });
    return (s.capabilities.includes('embedding') && s.model_info['nomic-bert.embedding_length'] === 768) || s;
});
await t('ollama.embed: two vectors of 768, in order, normalised', async () => {
    const r = await ollama.embed({ model: 'nomic-embed-text', input: ['The sky is blue.', 'Pasta.'] });
    const norm = Math.hypot(...r.embeddings[0]);
    return (r.embeddings.length === 2 && r.embeddings[1].length === 768 && Math.abs(norm - 1) < 1e-4 &&
        r.prompt_eval_count > 0) || r.embeddings.length;
});
await t('ollama.embeddings (legacy): one vector', async () => {
    const r = await ollama.embeddings({ model: 'nomic-embed-text', prompt: 'The sky is blue.' });
    return r.embedding.length === 768 || r;
});
await t('ollama.copy, then ollama.delete: the copy comes and goes', async () => {
    await ollama.copy({ source: 'llama3.2:1b', destination: 'copied:v1' });
    const had = (await ollama.list()).models.some((m) => m.name === 'copied:v1');
    await ollama.delete({ model: 'copied:v1' });
    const has = (await ollama.list()).models.some((m) => m.name === 'copied:v1');
    return (had && !has) || { had, has };
});
await t('ollama.chat with a schema: JSON that follows it', async () => {
    const r = await ollama.chat({ model: 'llama3.2:1b', format: critic, messages: [{ role: 'user', content: 'Rate.' }] });
    const v = JSON.parse(r.message.content);
    return (v.score >= 0 && v.score <= 1 && Array.isArray(v.issues)) || v;
});
await t('openai embeddings.create (the SDK asks for base64 and decodes it)', async () => {
    const r = await openai.embeddings.create({ model: 'nomic-embed-text', input: ['a', 'b'] });
    return (r.data.length === 2 && r.data[0].embedding.length === 768 && r.data[1].index === 1 &&
        Math.abs(Math.hypot(...r.data[0].embedding) - 1) < 1e-4) || r.data.length;
});
await t('openai embeddings.create with encoding_format float and dimensions', async () => {
    const r = await openai.embeddings.create({ model: 'nomic-embed-text', input: 'a', encoding_format: 'float', dimensions: 16 });
    return (r.data[0].embedding.length === 16 && r.usage.prompt_tokens > 0) || r;
});
await t('openai chat with response_format json_schema: the object', async () => {
    const r = await openai.chat.completions.create({
        model: 'llama3.2:1b', messages: [{ role: 'user', content: 'Rate. [[sim:score=0.75]]' }],
        response_format: { type: 'json_schema', json_schema: { name: 'verdict', schema: critic } },
    });
    const v = JSON.parse(r.choices[0].message.content);
    return v.score === 0.75 || v;
});
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
