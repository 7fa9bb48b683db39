// The browser side of the interop run: @moq/lite (npm) inside headless Chromium, connected to
// `sluice relay` over WebTransport with the relay's certificate pinned by
// `serverCertificateHashes`. Bundled by esbuild in run.mjs; the parameters come in the query
// string, the outcome goes back to run.mjs as JSON (POST /result), console lines as POST /log.
//
// mode=subscribe: subscribes to broadcast/track, reads every group it is given (each group on
// its own task, as groups may arrive concurrently) until the track ends, and reports the
// frames per group sequence (base64).
// mode=publish: publishes broadcast, waits for a subscription to track, writes `groups` groups
// of `groupSize` frames, ends the track, and reports the frames it sent.
// mode=announced: asks for the broadcasts announced under the prefix `broadcast` (@moq/lite's
// announced(), lite ANNOUNCE_INTEREST) and reports the first `expect` announcements in order
// ({path, active}); each is also logged as "announced PATH active=BOOL" as it arrives.
// mode=announce: publishes broadcast (an announcement, no track), logs "announce published",
// waits for the gate "withdraw", closes the broadcast (the announcement is withdrawn), waits
// for the gate "done" and reports. A gate is a GET /gate?name=NAME that run.mjs answers once
// the file NAME exists in its --gate-dir: the script opens it when the other side saw the step.

import * as Moq from "@moq/lite";

const params = new URLSearchParams(location.search);
const relay = new URL(params.get("relay"));
const fingerprint = params.get("fingerprint");
const mode = params.get("mode");
const broadcastPath = Moq.Path.from(params.get("broadcast") ?? "");
const trackName = params.get("track");

function post(path, body) {
	return fetch(path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
}

function log(...parts) {
	const line = parts.map((p) => (p instanceof Error ? `${p.name}: ${p.message}` : String(p))).join(" ");
	void post("/log", line);
}

for (const level of ["log", "info", "warn", "error", "debug"]) {
	const original = console[level].bind(console);
	console[level] = (...args) => {
		original(...args);
		log(`[${level}]`, ...args);
	};
}

function hexToBytes(hex) {
	const out = new Uint8Array(hex.length / 2);
	for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
	return out;
}

function base64(bytes) {
	let text = "";
	for (const b of bytes) text += String.fromCharCode(b);
	return btoa(text);
}

async function connect() {
	const connection = await Moq.Connection.connect(relay, {
		webtransport: { serverCertificateHashes: [{ algorithm: "sha-256", value: hexToBytes(fingerprint) }] },
		websocket: { enabled: false },
	});
	log("connected, version", connection.version);
	return connection;
}

async function subscribe() {
	const connection = await connect();
	const broadcast = connection.consume(broadcastPath);
	const track = broadcast.subscribe(trackName, 0);
	const groups = new Map();
	const readers = [];
	for (;;) {
		const group = await track.recvGroup();
		if (!group) break;
		const frames = [];
		if (groups.has(group.sequence)) throw new Error(`group ${group.sequence} delivered twice`);
		groups.set(group.sequence, frames);
		readers.push(
			(async () => {
				for (;;) {
					const frame = await group.readFrame();
					if (!frame) break;
					frames.push(base64(frame));
				}
			})(),
		);
	}
	await Promise.all(readers);
	connection.close();
	const sequences = [...groups.keys()].sort((a, b) => a - b);
	return { version: connection.version, groups: sequences.map((sequence) => ({ sequence, frames: groups.get(sequence) })) };
}

async function publish() {
	const groupCount = Number(params.get("groups"));
	const groupSize = Number(params.get("groupSize"));
	const connection = await connect();
	const broadcast = new Moq.Broadcast();
	connection.publish(broadcastPath, broadcast);
	const request = await broadcast.requested();
	if (!request) throw new Error("broadcast closed before any subscription");
	if (request.track.name !== trackName) throw new Error(`subscription to unexpected track ${request.track.name}`);
	// @moq/lite hands us the track before its SUBSCRIBE_OK is written; groups written at once
	// overtake it, and the relay then replays them all at once on parallel streams (see
	// docs/webtransport.md). A live source produces over time: start a little later.
	const startDelay = Number(params.get("startDelay") ?? "0");
	if (startDelay > 0) await new Promise((resolve) => setTimeout(resolve, startDelay));
	const sent = [];
	const encoder = new TextEncoder();
	for (let g = 0; g < groupCount; g++) {
		const group = request.track.appendGroup();
		const frames = [];
		for (let o = 0; o < groupSize; o++) {
			const frame = encoder.encode(`browser group ${g} frame ${o} ${"x".repeat((g * 7 + o) % 13)}\n`);
			group.writeFrame(frame);
			frames.push(base64(frame));
		}
		group.close();
		sent.push({ sequence: group.sequence, frames });
	}
	// Ending the track makes @moq/lite FIN the subscribe stream (lite-04 §Subscribe); keep the
	// connection open so the group streams written above are delivered.
	const linger = Number(params.get("linger") ?? "0");
	if (linger > 0) await new Promise((resolve) => setTimeout(resolve, linger));
	request.track.close();
	await new Promise((resolve) => setTimeout(resolve, 2000));
	return { version: connection.version, groups: sent };
}

async function announced() {
	const expect = Number(params.get("expect"));
	const connection = await connect();
	const stream = connection.announced(broadcastPath);
	const seen = [];
	while (seen.length < expect) {
		const entry = await stream.next();
		if (!entry) throw new Error(`announcements ended after ${seen.length} of ${expect}`);
		log(`announced ${entry.path} active=${entry.active}`);
		seen.push({ path: String(entry.path), active: entry.active });
	}
	connection.close();
	return { version: connection.version, announcements: seen };
}

function gate(name) {
	return fetch(`/gate?name=${encodeURIComponent(name)}`).then((r) => {
		if (!r.ok) throw new Error(`gate ${name}: HTTP ${r.status}`);
	});
}

async function announce() {
	const connection = await connect();
	const broadcast = new Moq.Broadcast();
	connection.publish(broadcastPath, broadcast);
	log("announce published");
	await gate("withdraw");
	broadcast.close();
	log("announce withdrawn");
	await gate("done");
	connection.close();
	return { version: connection.version };
}

// Console lines are POSTed without waiting; give them time to land before the result, after
// which run.mjs stops Chromium.
const flush = () => new Promise((resolve) => setTimeout(resolve, 300));

async function main() {
	try {
		const modes = { publish, subscribe, announced, announce };
		if (!modes[mode]) throw new Error(`unknown mode ${mode}`);
		const outcome = await modes[mode]();
		await flush();
		await post("/result", { ok: true, ...outcome });
	} catch (err) {
		await flush();
		await post("/result", { ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
	}
}

void main();
