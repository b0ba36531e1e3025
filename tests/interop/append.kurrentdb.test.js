'use strict';
// The append suite (suites/append.js) with kurrentdb; see README.md.
require('./clients').useClient('kurrentdb');
require('./suites/append');
