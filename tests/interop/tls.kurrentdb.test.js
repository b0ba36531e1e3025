'use strict';
// The TLS suite (suites/tls.js) with kurrentdb; see README.md.
require('./clients').useClient('kurrentdb');
require('./suites/tls');
