'use strict';
// The lifecycle suite (suites/lifecycle.js) with kurrentdb; see README.md.
require('./clients').useClient('kurrentdb');
require('./suites/lifecycle');
