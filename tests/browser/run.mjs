// Drives one browser run: bundles page.js with esbuild, serves it on 127.0.0.1, starts headless
// Chromium on it, waits for the page's JSON outcome and writes it to --out.
//
//   node run.mjs --mode subscribe|publish --relay https://127.0.0.1:PORT/ --fingerprint HEX \
//       --broadcast NS --track NAME --out result.json [--groups G --group-size N] [--timeout S]
//       [--expect N] [--gate-dir DIR]
//
// Exits 0 once the page reported (the caller checks the outcome), 1 on timeout or a Chromium
// failure. The page's console is copied to stderr prefixed with "page:".

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
	options: {
		mode: { type: "string" },
		relay: { type: "string" },
		fingerprint: { type: "string" },
		broadcast: { type: "string" },
		track: { type: "string" },
		out: { type: "string" },
		groups: { type: "string", default: "0" },
		"group-size": { type: "string", default: "0" },
		linger: { type: "string", default: "0" },
		"start-delay": { type: "string", default: "0" },
		timeout: { type: "string", default: "60" },
		expect: { type: "string", default: "0" },
		"gate-dir": { type: "string" },
		chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
	},
});
for (const name of ["mode", "relay", "fingerprint", "out"]) {
	if (!args[name]) {
		console.error(`run.mjs: --${name} is required`);
		process.exit(2);
	}
}

const bundle = await esbuild.build({
	entryPoints: [join(here, "page.js")],
	bundle: true,
	format: "esm",
	target: "chrome120",
	write: false,
	logLevel: "warning",
});
const script = bundle.outputFiles[0].contents;
const html = '<!doctype html><meta charset="utf-8"><title>sluice interop</title><script type="module" src="/page.js"></script>';

let finish;
const outcome = new Promise((resolve) => {
	finish = resolve;
});

function readBody(req) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		req.on("data", (c) => chunks.push(c));
		req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
		req.on("error", reject);
	});
}

const server = createServer(async (req, res) => {
	const path = new URL(req.url, "http://127.0.0.1").pathname;
	if (req.method === "GET" && path === "/") {
		res.writeHead(200, { "content-type": "text/html" }).end(html);
	} else if (req.method === "GET" && path === "/page.js") {
		res.writeHead(200, { "content-type": "text/javascript" }).end(script);
	} else if (req.method === "GET" && path === "/gate") {
		// Answered once the file named by ?name= exists in --gate-dir (the script's signal).
		const name = new URL(req.url, "http://127.0.0.1").searchParams.get("name") ?? "";
		if (!args["gate-dir"] || !/^[a-z-]+$/.test(name)) {
			res.writeHead(400).end();
			return;
		}
		const file = join(args["gate-dir"], name);
		const poll = setInterval(() => {
			if (existsSync(file)) {
				clearInterval(poll);
				res.writeHead(204).end();
			}
		}, 20);
		res.on("close", () => clearInterval(poll));
	} else if (req.method === "POST" && path === "/log") {
		process.stderr.write(`page: ${await readBody(req)}\n`);
		res.writeHead(204).end();
	} else if (req.method === "POST" && path === "/result") {
		const body = await readBody(req);
		res.writeHead(204).end();
		finish({ body });
	} else {
		res.writeHead(404).end();
	}
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address();

const query = new URLSearchParams({
	mode: args.mode,
	relay: args.relay,
	fingerprint: args.fingerprint,
	broadcast: args.broadcast ?? "",
	track: args.track ?? "",
	expect: args.expect,
	groups: args.groups,
	groupSize: args["group-size"],
	linger: args.linger,
	startDelay: args["start-delay"],
});
const profile = mkdtempSync(join(tmpdir(), "sluice-chromium-"));
const chromium = spawn(
	args.chromium,
	[
		"--headless",
		"--no-sandbox",
		"--disable-gpu",
		"--no-first-run",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-extensions",
		"--remote-debugging-port=0",
		`--user-data-dir=${profile}`,
		`http://127.0.0.1:${port}/?${query}`,
	],
	{ stdio: ["ignore", "ignore", "pipe"], detached: true },
);
let chromiumLog = "";
chromium.stderr.on("data", (d) => {
	chromiumLog += d;
});
chromium.on("exit", (code, signal) => finish({ exited: `chromium exited early (code ${code}, signal ${signal})` }));

const timer = setTimeout(() => finish({ timeout: true }), Number(args.timeout) * 1000);
const result = await outcome;
clearTimeout(timer);
chromium.removeAllListeners("exit");
try {
	process.kill(-chromium.pid, "SIGKILL");
} catch {
	// already gone
}
server.close();
server.closeAllConnections();
rmSync(profile, { recursive: true, force: true });

if (result.body !== undefined) {
	writeFileSync(args.out, result.body);
	process.exit(0);
}
console.error(result.timeout ? `run.mjs: no result from the page within ${args.timeout}s` : `run.mjs: ${result.exited}`);
console.error(`chromium stderr (tail):\n${chromiumLog.slice(-3000)}`);
process.exit(1);
