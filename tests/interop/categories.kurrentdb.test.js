'use strict';
// The categories suite (suites/categories.js) with kurrentdb; see README.md.
require('./clients').useClient('kurrentdb');
require('./suites/categories');
