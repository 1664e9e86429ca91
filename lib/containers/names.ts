// Docker-style random names: adjective_surname of a notable scientist or engineer.
import { urandomBytes } from '../ids.js';

const ADJECTIVES = [
  'admiring', 'agitated', 'amazing', 'bold', 'brave', 'busy', 'calm', 'charming', 'clever', 'cool',
  'dazzling', 'determined', 'eager', 'ecstatic', 'elastic', 'elegant', 'epic', 'fervent', 'festive', 'focused',
  'friendly', 'gallant', 'gifted', 'goofy', 'gracious', 'happy', 'hopeful', 'hungry', 'inspiring', 'jolly',
  'keen', 'kind', 'laughing', 'loving', 'lucid', 'magical', 'modest', 'musing', 'nice', 'nifty',
  'nostalgic', 'optimistic', 'peaceful', 'pensive', 'practical', 'quirky', 'relaxed', 'serene', 'sharp', 'stoic',
  'suspicious', 'sweet', 'tender', 'thirsty', 'trusting', 'upbeat', 'vibrant', 'vigilant', 'wizardly', 'zealous',
];

const SURNAMES = [
  'agnesi', 'albattani', 'archimedes', 'babbage', 'bardeen', 'bell', 'bohr', 'boole', 'borg', 'cerf',
  'curie', 'darwin', 'dijkstra', 'einstein', 'euclid', 'euler', 'faraday', 'fermat', 'feynman', 'franklin',
  'galileo', 'gauss', 'goldwasser', 'hamilton', 'hawking', 'hopper', 'hypatia', 'johnson', 'kepler', 'knuth',
  'lamport', 'liskov', 'lovelace', 'maxwell', 'mcclintock', 'meitner', 'mendel', 'newton', 'noether', 'pascal',
  'perlman', 'pike', 'ritchie', 'shannon', 'sinoussi', 'stallman', 'tesla', 'thompson', 'torvalds', 'turing',
  'villani', 'wilson', 'wing', 'wozniak', 'wright', 'yalow', 'yonath',
];

function randomIndex(n: number, bytes: Buffer, at: number): number {
  return bytes.readUInt32LE(at) % n;
}

export function randomName(): string {
  const bytes = urandomBytes(8);
  return `${ADJECTIVES[randomIndex(ADJECTIVES.length, bytes, 0)]}_${SURNAMES[randomIndex(SURNAMES.length, bytes, 4)]}`;
}

/** Docker's rule for container names. */
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
