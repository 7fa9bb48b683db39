// Checks one browser run's outcome (the page's JSON) against the other side's bytes.
//
//   node check.mjs received RESULT.json INPUT GROUP_SIZE [FIRST_GROUP]
//     the page subscribed; INPUT went into `sluice publish --lines --group-size GROUP_SIZE`:
//     the page must have received groups FIRST_GROUP (default 0), FIRST_GROUP+1, ... to the
//     last in order, group g holding exactly lines g*GROUP_SIZE .. (g+1)*GROUP_SIZE-1 of INPUT
//     (newline kept), byte for byte, and nothing else.
//   node check.mjs announced RESULT.json EXPECTED
//     the page listed announcements; their first ones must be exactly EXPECTED, in order
//     (comma-separated, each `+PATH` announced or `-PATH` withdrawn: `sluice discover`'s format).
//   node check.mjs sent RESULT.json OUTPUT
//     the page published; OUTPUT is what `sluice subscribe` wrote: the concatenation of every
//     frame the page sent, in (group, frame) order, byte for byte.
//
// Prints "pass: ..." or "fail: <first difference>" and exits 0 or 1.

import { readFileSync } from "node:fs";

const [kind, resultPath, other, groupSizeText, firstGroupText] = process.argv.slice(2);
const result = JSON.parse(readFileSync(resultPath, "utf8"));

function fail(reason) {
	console.log(`fail: ${reason}`);
	process.exit(1);
}

if (!result.ok) fail(`page error: ${result.error}`);
if (result.version !== "moq-lite-04") fail(`page negotiated ${result.version}, expected moq-lite-04`);
const groups = (result.groups ?? []).map((g) => ({ sequence: g.sequence, frames: g.frames.map((f) => Buffer.from(f, "base64")) }));

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
	const first = Number(firstGroupText ?? "0");
	const expectedGroups = Math.ceil(lines.length / groupSize) - first;
	if (groups.length !== expectedGroups) {
		fail(`received ${groups.length} groups (${groups.map((g) => g.sequence).join(",")}), expected ${expectedGroups} from group ${first}`);
	}
	groups.forEach((group, i) => {
		const g = first + i;
		if (group.sequence !== g) fail(`group #${i} has sequence ${group.sequence}, expected ${g}`);
		const want = lines.slice(g * groupSize, (g + 1) * groupSize);
		if (group.frames.length !== want.length) fail(`group ${g}: ${group.frames.length} frames, expected ${want.length}`);
		group.frames.forEach((frame, o) => {
			if (!frame.equals(want[o])) fail(`group ${g} frame ${o}: got ${JSON.stringify(frame.toString())}, expected ${JSON.stringify(want[o].toString())}`);
		});
	});
	const frames = lines.length - first * groupSize;
	const from = first > 0 ? ` (groups ${first}..${first + groups.length - 1}: the latest group on subscribing and on)` : "";
	console.log(`pass: ${frames} frames in ${groups.length} groups${from}, byte-identical and in order`);
} else if (kind === "announced") {
	const want = other.split(",");
	const got = result.announcements.slice(0, want.length).map((a) => `${a.active ? "+" : "-"}${a.path}`);
	if (got.join(",") !== other) fail(`announcements ${got.join(",")}, expected ${other}`);
	console.log(`pass: ${other.replaceAll(",", " then ")}`);
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
