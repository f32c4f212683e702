// Reading profiles and requests (the loaders at the edge): the document reader (document.ts), the
// platform loader (platform-loader.ts) and the request loader (request-loader.ts).

export { loadPlatform, parsePlatform } from './platform-loader.js';
export { loadRequest, makeRequest, parseRequest, type RequestFields } from './request-loader.js';
