import { freezerCommand } from './pause.js';

export const { spec, run } = freezerCommand(false);
