// `npm run ground-truth`: discovery's precision and recall on the ground-truth boards, per board.
import { groundTruth, report, scoreBoard } from './ground-truth.js';

process.stdout.write(`${report(groundTruth().map(scoreBoard))}\n`);
