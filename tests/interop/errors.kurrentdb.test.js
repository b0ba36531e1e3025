'use strict';
// The errors suite (suites/errors.js) with kurrentdb; see README.md.
require('./clients').useClient('kurrentdb');
require('./suites/errors');
