import { Controller, Get, Inject } from '@nestjs/common';
import { BANKING_OPTIONS, type BankingOptions } from './banking-options';

/** Which pod answered: the demo launcher polls it to know a pod is up. */
@Controller('pod')
export class PodController {
  constructor(@Inject(BANKING_OPTIONS) private readonly options: BankingOptions) {}

  @Get()
  describe(): { pod: string; pid: number; withoutLibrary: boolean } {
    return {
      pod: this.options.podName,
      pid: process.pid,
      withoutLibrary: this.options.withoutLibrary,
    };
  }
}
