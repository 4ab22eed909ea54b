"""Tools around the core: the evaluation (`evaluate`), the fitting of the fusion (`fit_fusion`) and the bench
(`bench`). May import the core and presentation; nothing imports them."""
