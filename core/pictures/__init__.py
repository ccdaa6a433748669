"""The data and the pictures: MNIST, any picture made into MNIST's 28x28, distortions, handwriting traits."""
