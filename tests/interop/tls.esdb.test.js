'use strict';
// The TLS suite (suites/tls.js) with esdb; see README.md.
require('./clients').useClient('esdb');
require('./suites/tls');
