// Preloaded (NODE_OPTIONS="--require …/started.cjs") into an evx a test signals early: creates the file
// $EVX_TEST_STARTED_FILE on the first tick after the main script's first synchronous run, i.e. once
// bin/evx's first lines have run. Before that, a signal meets Node's start-up, not evx.
process.nextTick(() => require("node:fs").writeFileSync(process.env.EVX_TEST_STARTED_FILE, ""));
