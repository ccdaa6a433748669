"""The data and the pictures, with no network: MNIST, any picture made into MNIST's 28x28, distortions, handwriting
traits."""
