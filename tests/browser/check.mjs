// Checks one browser run's outcome (the page's JSON) against the other side's bytes.
//
//   node check.mjs received RESULT.json INPUT GROUP_SIZE
//     the page subscribed; INPUT went into `sluice publish --lines --group-size GROUP_SIZE`:
//     the page must have received groups 0, 1, ... in order, group g holding exactly lines
//     g*GROUP_SIZE .. (g+1)*GROUP_SIZE-1 of INPUT (newline kept), byte for byte.
//   node check.mjs sent RESULT.json OUTPUT
//     the page published; OUTPUT is what `sluice subscribe` wrote: the concatenation of every
//     frame the page sent, in (group, frame) order, byte for byte.
//
// Prints "pass: ..." or "fail: <first difference>" and exits 0 or 1.

import { readFileSync } from "node:fs";

const [kind, resultPath, other, groupSizeText] = process.argv.slice(2);
const result = JSON.parse(readFileSync(resultPath, "utf8"));

function fail(reason) {
	console.log(`fail: ${reason}`);
	process.exit(1);
}

if (!result.ok) fail(`page error: ${result.error}`);
if (result.version !== "moq-lite-04") fail(`page negotiated ${result.version}, expected moq-lite-04`);
const groups = result.groups.map((g) => ({ sequence: g.sequence, frames: g.frames.map((f) => Buffer.from(f, "base64")) }));

if (kind === "received") {
	const input = readFileSync(other);
	const lines = [];
	for (let start = 0; start < input.length; ) {
		const end = input.indexOf(10, start);
		const stop = end < 0 ? input.length : end + 1;
		lines.push(input.subarray(start, stop));
		start = stop;
	}
	const groupSize = Number(groupSizeText);
	const expectedGroups = Math.ceil(lines.length / groupSize);
	if (groups.length !== expectedGroups) fail(`received ${groups.length} groups, expected ${expectedGroups}`);
	groups.forEach((group, g) => {
		if (group.sequence !== g) fail(`group #${g} has sequence ${group.sequence}`);
		const want = lines.slice(g * groupSize, (g + 1) * groupSize);
		if (group.frames.length !== want.length) fail(`group ${g}: ${group.frames.length} frames, expected ${want.length}`);
		group.frames.forEach((frame, o) => {
			if (!frame.equals(want[o])) fail(`group ${g} frame ${o}: got ${JSON.stringify(frame.toString())}, expected ${JSON.stringify(want[o].toString())}`);
		});
	});
	console.log(`pass: ${lines.length} frames in ${groups.length} groups, byte-identical and in order`);
} else if (kind === "sent") {
	const output = readFileSync(other);
	const sent = Buffer.concat(groups.flatMap((g) => g.frames));
	const frames = groups.reduce((n, g) => n + g.frames.length, 0);
	if (frames === 0) fail("the page sent nothing");
	if (!output.equals(sent)) {
		let at = 0;
		while (at < Math.min(output.length, sent.length) && output[at] === sent[at]) at++;
		fail(`sluice subscribe wrote ${output.length} bytes, the page sent ${sent.length}; first difference at byte ${at}`);
	}
	console.log(`pass: ${frames} frames in ${groups.length} groups, byte-identical and in order`);
} else {
	fail(`unknown check ${kind}`);
}
