import { App } from 'aws-cdk-lib';
import { addVobeeStack } from './vobee-app.ts';

addVobeeStack(new App());
