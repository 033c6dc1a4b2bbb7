#!/usr/bin/env node
// The installed `cilo` command: runs the bundled CLI.
import "../dist/cilo.mjs";
